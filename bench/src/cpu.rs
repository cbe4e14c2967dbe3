//! CPU time, read from `/proc`: of this whole process, or of its threads with a given name. On a
//! machine whose cores other work shares, wall-clock rates move with that work; the CPU time a
//! piece of code spends per event does not, so it is the steadier figure for before-and-after
//! comparisons of the same code path.

use std::time::Duration;

/// Clock ticks per second of `/proc/*/stat` (`sysconf(_SC_CLK_TCK)`, 100 on Linux x86-64).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system time from the contents of a `/proc/.../stat` file.
fn stat_cpu(stat: &str) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are the 12th and 13th after the name.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 1_000 / TICKS_PER_SECOND))
}

/// The CPU time this process has used so far, on all its threads.
pub fn process() -> Duration {
    std::fs::read_to_string("/proc/self/stat").ok().and_then(|stat| stat_cpu(&stat)).unwrap_or_default()
}

/// The CPU time the calling thread has used so far.
pub fn this_thread() -> Duration {
    std::fs::read_to_string("/proc/thread-self/stat").ok().and_then(|stat| stat_cpu(&stat)).unwrap_or_default()
}

/// The CPU time used so far by this process's live threads named `name` (as `/proc` shows
/// names: at most 15 bytes).
pub fn threads_named(name: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Duration::ZERO };
    tasks
        .flatten()
        .filter(|task| std::fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| comm.trim_end() == name))
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| stat_cpu(&stat))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_system_time_are_read_after_the_name() {
        let stat = "1234 (kipina store wr) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(stat_cpu(stat), Some(Duration::from_secs(3)));
    }

    #[test]
    fn this_process_has_used_some_time() {
        // The kernel counts CPU time in ticks (10 ms here): spin until one is counted, or give up
        // after long enough that only a broken reading of /proc can explain it (on a busy
        // machine, 30 ms of wall time may hold no tick of this process's CPU at all).
        let spin = std::time::Instant::now();
        while process() == Duration::ZERO && spin.elapsed() < Duration::from_secs(20) {}
        assert!(process() > Duration::ZERO);
    }
}
