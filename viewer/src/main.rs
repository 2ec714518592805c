//! Mounts the tare viewer into the page body.

mod app;
mod load;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
