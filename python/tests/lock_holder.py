"""Child process for test_run_lock.py, the Python twin of test/core/node/fixtures/lockHolder.ts: prints "ready", waits
for a line on stdin, tries to take a run folder's lock and prints the outcome; a winner holds the lock until stdin
closes. Usage: python lock_holder.py <runDir>"""

import sys

from dora_studio.run.lock import RunLock, RunLockedError


def main(run_dir: str) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except RunLockedError as e:
        print(f"refused {e}", flush=True)
        return
    print(f"got {'took-over' if lock.took_over else 'fresh'}", flush=True)
    sys.stdin.read()
    lock.release()


if __name__ == "__main__":
    main(sys.argv[1])
