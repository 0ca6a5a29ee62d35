"""A script that does not compile: SyntaxError on stderr, exit status 1, nothing runs."""
print("this line is never executed")


def broken(:
    return 1
