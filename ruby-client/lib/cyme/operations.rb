# frozen_string_literal: true

module Cyme
  # Every operationId of openapi.yaml, and the method that performs it.
  # The POST forms of create-or-update operations (postApp, postAutoscale,
  # postConsumer, postQueue) are the same operations as their PUT twins,
  # which the SDK uses. test/operations_test.rb keeps this table complete.
  OPERATIONS = {
    "ping" => "Client#ping",
    "getOpenAPI" => "Client#spec",
    "getDocs" => "Client#docs",
    "listBranches" => "Client#branches",
    "getBranch" => "Client#get_branch",
    "listApps" => "Resources::Apps#all_names",
    "getApp" => "Resources::Apps#get",
    "putApp" => "Resources::Apps#add",
    "postApp" => "Resources::Apps#add",
    "deleteApp" => "Resources::Apps#delete",
    "listInstances" => "Resources::Instances#all_names",
    "createInstance" => "Resources::Instances#add",
    "createNamedInstance" => "Resources::Instances#add",
    "getInstance" => "Resources::Instances#get",
    "deleteInstance" => "Resources::Instances#delete",
    "getAutoscale" => "Instance#autoscale",
    "putAutoscale" => "Instance#autoscale",
    "postAutoscale" => "Instance#autoscale",
    "getInstanceStats" => "Instance#stats",
    "listConsumers" => "Resources::Consumers#all",
    "putConsumer" => "Resources::Consumers#add",
    "postConsumer" => "Resources::Consumers#add",
    "deleteConsumer" => "Resources::Consumers#delete",
    "listQueues" => "Resources::Queues#all_names",
    "getQueue" => "Resources::Queues#get",
    "putQueue" => "Resources::Queues#add",
    "postQueue" => "Resources::Queues#add",
    "deleteQueue" => "Resources::Queues#delete"
  }.freeze
end
