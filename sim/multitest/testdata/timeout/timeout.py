# instance1 waits for a broadcast nobody sends: it is still running when the
# time is up and its output ends with TIMEOUT.


def instance0():
    multitest.next()
    print("instance0 done")


def instance1():
    multitest.next()
    print("instance1 waiting")
    multitest.wait("never sent")
    print("not reached")
