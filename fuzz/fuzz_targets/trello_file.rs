//! Anything uploaded as a Trello export (see `kipina_server::fuzzing::trello_file`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kipina_server::fuzzing::trello_file(data));
