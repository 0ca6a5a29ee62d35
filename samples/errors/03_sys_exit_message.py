"""sys.exit("message"): the message goes to stderr and the exit status is 1."""
import sys

print("checking configuration")
sys.exit("error: configuration file slime.toml is missing; create it first")
