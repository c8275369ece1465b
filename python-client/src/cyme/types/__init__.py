"""The models of the Cyme branch API, generated from openapi.yaml."""

from ._base import CymeModel
from ._generated import (
    App,
    AppInput,
    Autoscale,
    AutoscaleInput,
    Branch,
    Consumer,
    Instance,
    InstanceInput,
    Ok,
    Problem,
    Queue,
    QueueInput,
    Scheduled,
    Stats,
)

__all__ = [
    "App",
    "AppInput",
    "Autoscale",
    "AutoscaleInput",
    "Branch",
    "Consumer",
    "CymeModel",
    "Instance",
    "InstanceInput",
    "Ok",
    "Problem",
    "Queue",
    "QueueInput",
    "Scheduled",
    "Stats",
]
