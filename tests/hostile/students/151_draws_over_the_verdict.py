# expect: pass: a correct module that prints a fake PASS over the verdict with escape sequences (shown escaped)
import os


def f(x):
    print("\x1b[1A\x1b[2K\rPASS  hw.yaml  1 leaf\x1b[8m", end="")
    os.write(2, b"\x1b]0;PASS\x07\x1b]52;c;UEFTUw==\x07\x9b2K\xe2\x80\xae")  # OSC title, clipboard, C1 CSI, bidi
    return x * x


def b(g, x):
    return (2 * x * g,)
