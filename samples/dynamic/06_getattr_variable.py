"""getattr with the attribute name in a variable, with and without a default."""


class Settings:
    host = "localhost"
    port = 8080
    debug = False


settings = Settings()
for name in ["host", "port", "debug", "missing"]:
    print(f"{name}={getattr(settings, name, '<unset>')!r}")
field = "po" + "rt"
print(getattr(settings, field) + 1)
