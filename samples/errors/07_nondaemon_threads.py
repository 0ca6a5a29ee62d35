"""Non-daemon threads outlive the main module: the interpreter waits for them at exit.
An exception in a thread goes to threading.excepthook and does not change the exit
status."""
import sys
import threading


def report_thread_failure(args):
    # The default hook's traceback runs through threading.py, whose absolute path is
    # the stdlib's location and not a property of the interpreter under test.
    print(f"thread {args.thread.name} raised {args.exc_type.__name__}: {args.exc_value}", file=sys.stderr)


threading.excepthook = report_thread_failure

main_done = threading.Event()
results = []
lock = threading.Lock()


def worker(index, previous):
    main_done.wait()
    if previous is not None:
        previous.join()
    with lock:
        results.append(index * index)
        print(f"worker {index} finished after main, results={results}", flush=True)
    if index == 2:
        raise ValueError(f"worker {index} failed")


threads = []
previous = None
for i in range(4):
    t = threading.Thread(target=worker, args=(i, previous), name=f"worker-{i}")
    t.start()
    threads.append(t)
    previous = t

daemon = threading.Thread(target=main_done.wait, daemon=True, name="idle-daemon")
daemon.start()
print(f"main module done, alive={sum(t.is_alive() for t in threads)}", flush=True)
main_done.set()
