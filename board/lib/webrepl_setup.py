# The board's webrepl_setup (micropython-lib's), written for this
# simulator: asks whether WebREPL starts at boot and for its password,
# writes webrepl_cfg.py, (un)comments the two lines in boot.py and offers a
# reboot, with the original's prompts.
import sys
import os
import machine

RC = "./boot.py"
CONFIG = "./webrepl_cfg.py"
_LINES = ("import webrepl", "webrepl.start()")


def input_choice(prompt, choices):
    while 1:
        r = input(prompt)
        if r in choices:
            return r


def getpass(prompt):
    return input(prompt)


def input_pass():
    while 1:
        p1 = getpass("New password (4-9 chars): ")
        if not 4 <= len(p1) <= 9:
            print("Invalid password length")
            continue
        if getpass("Confirm password: ") == p1:
            return p1
        print("Passwords do not match")


def exists(fname):
    try:
        open(fname).close()
        return True
    except OSError:
        return False


def get_daemon_status():
    with open(RC) as f:
        for line in f:
            if "webrepl" in line:
                return not line.startswith("#")
    return None


def change_daemon(action):
    found = False
    with open(RC) as src, open(RC + ".tmp", "w") as dst:
        for line in src:
            if any(p in line for p in _LINES):
                found = True
                if action and line.startswith("#"):
                    line = line[1:]
                elif not action and not line.startswith("#"):
                    line = "#" + line
            dst.write(line)
        if not found:
            dst.write("import webrepl\nwebrepl.start()\n")
    os.remove(RC)
    os.rename(RC + ".tmp", RC)


def main():
    status = get_daemon_status()
    print("WebREPL daemon auto-start status:", "enabled" if status else "disabled")
    print("\nWould you like to (E)nable or (D)isable it running on boot?")
    print("(Empty line to quit)")
    r = input("> ").upper()
    if r == "E":
        if exists(CONFIG):
            r2 = input_choice("Would you like to change WebREPL password? (y/n) ", ("y", "n", ""))
        else:
            print("To enable WebREPL, you must set password for it")
            r2 = "y"
        if r2 == "y":
            with open(CONFIG, "w") as f:
                f.write("PASS = %r\n" % input_pass())
    if r not in ("D", "E") or (r == "D" and not status) or (r == "E" and status):
        print("No further action required")
        sys.exit()
    change_daemon(r == "E")
    print("Changes will be activated after reboot")
    if input_choice("Would you like to reboot now? (y/n) ", ("y", "n", "")) == "y":
        machine.reset()


main()
