//! Splitting this machine's cores between the server and the load generator (`--split-cores`): with both on
//! every core, the scheduler time-shares them, and a server thread that waits out another process's time slice
//! (a tick, 4 ms on most kernels) holds up every connection it serves; that wait, not the server, is most of the
//! 99th percentile of a closed loop. Apart, each measures what it does.

use std::process::Command;

/// The CPUs this process may run on, in order.
pub fn allowed() -> Result<Vec<usize>, String> {
    // SAFETY: a zeroed cpu_set_t is an empty set, filled by the kernel for this process (pid 0).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let status = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if status != 0 {
        return Err(format!("cannot read this process's CPUs: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: CPU_ISSET reads a bit of the set, each below CPU_SETSIZE.
    Ok((0..libc::CPU_SETSIZE as usize).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).collect())
}

/// The server's CPUs and the load generator's: the first half of `cpus` and the rest (one each on two cores).
pub fn split(cpus: &[usize]) -> Result<(Vec<usize>, Vec<usize>), String> {
    if cpus.len() < 2 {
        return Err(format!("--split-cores needs at least 2 CPUs; this process may use {}", cpus.len()));
    }
    let (server, load) = cpus.split_at(cpus.len() / 2);
    Ok((server.to_vec(), load.to_vec()))
}

fn cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes a bit below CPU_SETSIZE.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus.iter().filter(|&&cpu| cpu < libc::CPU_SETSIZE as usize) {
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    set
}

/// Keeps this process, and the threads and processes it starts from now on, on `cpus`.
pub fn confine_self(cpus: &[usize]) -> Result<(), String> {
    let set = cpu_set(cpus);
    // SAFETY: sets this thread's CPUs from a valid set; threads started later inherit it.
    let status = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if status != 0 {
        return Err(format!("cannot keep the load generator on CPUs {cpus:?}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Makes the process `command` starts run on `cpus` from its first instruction (so that it sizes its thread pools
/// by them).
pub fn confine(command: &mut Command, cpus: &[usize]) {
    use std::os::unix::process::CommandExt;
    let set = cpu_set(cpus);
    // SAFETY: between fork and exec the closure makes one system call, which is async-signal-safe, on a set
    // copied into it before the fork.
    unsafe {
        command.pre_exec(move || {
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn the_server_gets_the_first_half_and_the_generator_the_rest() {
        assert_eq!(split(&[0, 1]), Ok((vec![0], vec![1])));
        assert_eq!(split(&[2, 3, 5, 7, 8]), Ok((vec![2, 3], vec![5, 7, 8])));
        assert!(split(&[0]).unwrap_err().contains("at least 2 CPUs"));
    }

    #[test]
    fn this_process_may_run_somewhere() {
        assert!(!super::allowed().expect("the CPUs of this process").is_empty());
    }
}
