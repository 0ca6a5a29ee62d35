"""__init_subclass__ with a class keyword, used as a route table."""


class View:
    routes = {}

    def __init_subclass__(cls, route=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if route is not None:
            View.routes[route] = cls

    def get(self):
        return type(self).__name__


class Home(View, route="/"):
    pass


class About(View, route="/about"):
    pass


class Helper(View):
    pass


for path in sorted(View.routes):
    print(path, View.routes[path]().get())
