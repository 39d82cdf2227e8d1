"""Building features: the facts about a building that decide which checklist sections and items apply.

Pure module: the checklist loader and the scoring module use it without Flask or a database.
"""

from enum import StrEnum


class Feature(StrEnum):
    garage = "garage"
    outdoor_parking = "outdoor_parking"
    storage_rooms = "storage_rooms"
    basement = "basement"
    laundry_room = "laundry_room"
    bike_room = "bike_room"
    pram_room = "pram_room"
    refuse_room = "refuse_room"
    courtyard = "courtyard"
    playground = "playground"
    elevator = "elevator"
    access_system = "access_system"
