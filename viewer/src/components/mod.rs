//! Small reusable pieces: chart images, table cells and badges, pickers, the file opener, the theme toggle.

pub mod archive_picker;
pub mod badge;
pub mod cell_picker;
pub mod chart;
pub mod nav;
pub mod num;
pub mod open;
pub mod theme;
