//! Bringing boards in: a Trello board's JSON export. (Restoring Kipinä's own log is
//! `export::log`.)

pub mod trello;
