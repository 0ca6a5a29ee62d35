"""A metaclass __new__ that registers every subclass by name, as plugin systems do."""


class PluginMeta(type):
    registry = {}

    def __new__(mcls, name, bases, namespace):
        cls = super().__new__(mcls, name, bases, namespace)
        if bases:
            mcls.registry[namespace.get("key", name.lower())] = cls
        return cls


class Plugin(metaclass=PluginMeta):
    def run(self):
        return f"{type(self).__name__} ran"


class Exporter(Plugin):
    key = "export"


class Importer(Plugin):
    pass


print(sorted(PluginMeta.registry))
print([PluginMeta.registry[k]().run() for k in sorted(PluginMeta.registry)])
print(type(Exporter).__name__)
