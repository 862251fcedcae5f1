# The protocol without the network: SET globals flow to later instances,
# BROADCAST/wait in both directions, OUTPUT_METRIC is not output, lines
# printed before NEXT are output, three instances start in order.


def instance0():
    print("zero before next")
    multitest.globals(A=1, B="two", C=[3, (4, 5)])
    multitest.next()
    multitest.wait("from 2")
    print("zero got from 2")
    multitest.broadcast("from 0")


def instance1():
    print("one sees", A, B, C)
    multitest.globals(D=A + 1)
    multitest.next()
    multitest.wait("from 0")
    print("one got from 0")
    multitest.output_metric("speed 42")


def instance2():
    print("two sees", A, B, C, D)
    multitest.next()
    multitest.broadcast("from 2")
    multitest.wait("from 0")
    print("two got from 0")
