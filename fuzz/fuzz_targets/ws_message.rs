//! Anything a browser could send over the WebSocket (see `kipina_server::fuzzing::ws_message`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kipina_server::fuzzing::ws_message(data));
