# expect_reboot(): instance0 announces a reboot, resets the board, and the
# runner resumes it with instance0_after() once the board is back, as
# run-multitests.py does (the WAIT_FOR_REBOOT line stays in the output).

import machine


def instance0():
    multitest.globals(X=5)
    multitest.next()
    print("before reset")
    multitest.expect_reboot("instance0_after", 0)
    machine.reset()


def instance0_after():
    print("after reset, X is", X)
    multitest.broadcast("back")


def instance1():
    multitest.next()
    multitest.wait("back")
    print("instance0 is back")
