"""Geometry helpers used by the examples in the README."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float

    def distance_to(self, other: "Point") -> float:
        """Euclidean distance between two points."""
        return math.hypot(self.x - other.x, self.y - other.y)


@dataclass(frozen=True)
class Circle:
    center: Point
    radius: float

    def area(self) -> float:
        """Area of the circle."""
        return math.pi * self.radius ** 2

    def circumference(self) -> float:
        """Length of the circle's boundary."""
        

    def contains(self, point: Point) -> bool:
        """True when the point lies inside or on the circle."""
        return self.center.distance_to(point) <= self.radius
