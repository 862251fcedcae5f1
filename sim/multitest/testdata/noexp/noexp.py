# No .exp file: the output is shown and the test is skipped.


def instance0():
    print("hello from", "instance0")
    multitest.next()


def instance1():
    multitest.next()
    print("hello from", "instance1")
