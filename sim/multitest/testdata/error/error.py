# instance0 raises after NEXT: its traceback is its output and the runner
# stops the other instance, as run-multitests.py does for a board.


def instance0():
    multitest.next()
    multitest.wait("go")
    raise ValueError("boom")


def instance1():
    multitest.next()
    print("instance1 broadcasting")
    multitest.broadcast("go")
    multitest.wait("never sent")
