"""Swapping a method that another method calls: the caller picks up the new one."""


class Greeter:
    def say(self, name):
        return f"hello {name}"

    def shout(self, name):
        return self.say(name).upper() + "!"


g = Greeter()
print(g.shout("ann"))
Greeter.say = lambda self, name: f"goodbye {name}"
print(g.shout("ann"))
g.say = lambda name: f"instance {name}"
print(g.shout("ann"))
