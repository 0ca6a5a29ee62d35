"""A linked list walked through getattr(node, "next") until the chain ends."""


class Node:
    def __init__(self, value, next=None):
        self.value = value
        self.next = next


head = None
for value in reversed(range(1, 6)):
    head = Node(value, head)

node, seen = head, []
while node is not None:
    seen.append(getattr(node, "value"))
    node = getattr(node, "next")
print(seen)
print(sum(seen))
