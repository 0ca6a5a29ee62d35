"""@property getter and setter that validate, as model classes do."""


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    @property
    def balance(self):
        return self._balance

    @balance.setter
    def balance(self, value):
        if not isinstance(value, int):
            raise TypeError(f"balance must be int, not {type(value).__name__}")
        if value < 0:
            raise ValueError(f"balance cannot be negative: {value}")
        self._balance = value


acct = Account("kim", 10)
acct.balance += 5
print(acct.owner, acct.balance)
for bad in (-1, "7"):
    try:
        acct.balance = bad
    except (TypeError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}")
print(acct.balance)
