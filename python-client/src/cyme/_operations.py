"""Which SDK method performs each operationId of openapi.yaml.

Entries are "Class.attribute" in the `cyme` namespace; a test checks that
every operationId of the spec is here and that each attribute exists. The
POST twins of the create-or-update operations (postApp, postAutoscale,
postConsumer, postQueue) are the same operations as their PUT forms, so the
same methods serve them: the SDK sends PUT, which is idempotent and safe to
retry without a key.
"""

from __future__ import annotations

OPERATIONS: dict[str, str] = {
    "ping": "Client.ping",
    "getOpenAPI": "Client.spec",
    "getDocs": "Client.docs",
    "listBranches": "Client.branches",
    "getBranch": "Client.get_branch",
    "listApps": "Apps.all_names",
    "getApp": "Apps.get",
    "putApp": "Apps.add",
    "postApp": "Apps.add",
    "deleteApp": "Apps.delete",
    "listInstances": "Instances.all_names",
    "createInstance": "Instances.add",
    "createNamedInstance": "Instances.add",
    "getInstance": "Instances.get",
    "deleteInstance": "Instances.delete",
    "getAutoscale": "Instance.autoscale",
    "putAutoscale": "Instance.autoscale",
    "postAutoscale": "Instance.autoscale",
    "getInstanceStats": "Instance.stats",
    "listConsumers": "Consumers.all",
    "putConsumer": "Consumers.add",
    "postConsumer": "Consumers.add",
    "deleteConsumer": "Consumers.delete",
    "listQueues": "Queues.all_names",
    "getQueue": "Queues.get",
    "putQueue": "Queues.add",
    "postQueue": "Queues.add",
    "deleteQueue": "Queues.delete",
}
