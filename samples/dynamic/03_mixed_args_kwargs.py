"""Fixed prefix, *args and **kwargs together, including keyword-only parameters."""


def request(method, url, *segments, timeout=30, **headers):
    path = "/".join((url.rstrip("/"),) + tuple(str(s) for s in segments))
    head = ";".join(f"{k.replace('_', '-')}:{v}" for k, v in sorted(headers.items()))
    return f"{method} {path} timeout={timeout} [{head}]"


print(request("GET", "http://example.invalid/", "users", 42))
print(request("POST", "http://example.invalid", "items", timeout=5, content_type="json", x_trace=7))
try:
    request("GET")
except TypeError as exc:
    print(f"TypeError: {exc}")
