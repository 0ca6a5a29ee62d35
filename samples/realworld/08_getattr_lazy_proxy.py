"""__getattr__ as a lazy proxy: values are computed on first access and cached."""


class LazyConfig:
    def __init__(self, loaders):
        self._loaders = loaders
        self.loaded = []

    def __getattr__(self, name):
        try:
            loader = self._loaders[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}") from None
        value = loader()
        self.loaded.append(name)
        setattr(self, name, value)
        return value


cfg = LazyConfig({"port": lambda: 8000 + 80, "hosts": lambda: ["a", "b"]})
print(cfg.port, cfg.port, cfg.hosts)
print(cfg.loaded)
try:
    cfg.missing
except AttributeError as exc:
    print(f"AttributeError: {exc}")
