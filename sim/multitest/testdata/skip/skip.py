# instance1 skips before NEXT: the whole test is skipped.


def instance0():
    print("instance0 started")
    multitest.next()
    multitest.wait("never sent")


def instance1():
    multitest.skip()
