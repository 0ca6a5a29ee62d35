"""Non-ASCII output under LC_ALL=C: CPython's UTF-8 mode writes UTF-8 to stdout and
stderr; undecodable bytes round-trip through surrogateescape."""
import sys

print("日本語の出力 — ümlaut, ελληνικά, emoji 🐍, combining e\u0301")
print("stderr: エラーではない", file=sys.stderr)
sys.stdout.flush()
sys.stdout.buffer.write("raw bytes: ✓\n".encode("utf-8"))
sys.stdout.buffer.flush()
print("escaped byte:", b"\xff\xfe".decode("utf-8", "surrogateescape"))
print(ascii("日本"), len("🐍".encode()), "🐍".encode("utf-16-le").hex())
sys.stdout.write("no newline at the end: ∎")
