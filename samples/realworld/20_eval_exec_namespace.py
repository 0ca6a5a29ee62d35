"""exec() defining functions in a namespace and eval() of expressions against it."""
source = """
def scale(v, k=factor):
    return [x * k for x in v]

total = sum(scale(values))
"""
globals_ns = {"factor": 3, "values": [1, 2, 3]}
local_ns = {}
exec(source, globals_ns, local_ns)
print(sorted(local_ns), local_ns["total"])
print(eval("scale([10], 2) + [total]", globals_ns, local_ns))
code = compile("a ** b", "<expr>", "eval")
print([eval(code, {"a": a, "b": 2}) for a in range(4)])
