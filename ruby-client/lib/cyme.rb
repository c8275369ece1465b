# frozen_string_literal: true

# The Ruby SDK of the Cyme branch API (openapi.yaml).
#
#   require "cyme"
#   cyme = Cyme::Client.new("http://localhost:8000")
#   app = cyme.add("pycon", broker: "amqp://", arguments: "--workdir=/opt/play/proj")
#   instance = app.instances.add
#   instance.autoscale(min: 4, max: 10)
module Cyme
end

require_relative "cyme/version"
require_relative "cyme/constants"
require_relative "cyme/models/base"
require_relative "cyme/models/generated"
require_relative "cyme/errors"
require_relative "cyme/routes"
require_relative "cyme/raw_response"
require_relative "cyme/connection_pool"
require_relative "cyme/transport"
require_relative "cyme/resources/base"
require_relative "cyme/resources/apps"
require_relative "cyme/resources/instances"
require_relative "cyme/resources/queues"
require_relative "cyme/resources/consumers"
require_relative "cyme/resources/tasks"
require_relative "cyme/app"
require_relative "cyme/instance"
require_relative "cyme/scheduled"
require_relative "cyme/task"
require_relative "cyme/cluster"
require_relative "cyme/branch"
require_relative "cyme/cluster_list"
require_relative "cyme/requestor"
require_relative "cyme/client"
require_relative "cyme/operations"
