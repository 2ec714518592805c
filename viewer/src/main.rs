//! Mounts the tare viewer into the page body.

mod app;
mod components;
mod load;
mod route;
mod state;
mod views;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
