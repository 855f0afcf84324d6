"""Orders (令): `/order` by a leader, 收到 / 完成 by the units, `/orders` the board.

「令行禁止」: an order flows down as reliably as a call flows up. Each target unit's staff
chat gets the order with a 收到 button; 收到 turns it into a 完成 button; a unit that stays
silent is chased up its ladder by `escalation.orders`. Button data names a target and an
action only: the press is checked against who pressed it, the message it was pressed on and
the target's state now.
"""

from handlers.orders.board import board
from handlers.orders.cards import OrderMessages
from handlers.orders.issue import command
from handlers.orders.parse import OrderInputError, parse_deadline, parse_targets
from handlers.orders.press import on_press

__all__ = [
    "OrderInputError",
    "OrderMessages",
    "board",
    "command",
    "on_press",
    "parse_deadline",
    "parse_targets",
]
