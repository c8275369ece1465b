# frozen_string_literal: true

# Prints the public surface of the Ruby SDK as JSON, for test_parity.py to
# hold against the Python SDK's: for each class a user meets, its public
# members (methods and readers) with their parameter names, the error
# classes with their attributes, and the top-level constants with their
# values.
#
#   ruby -I ruby-client/lib tests/contract/sdk_surface.rb

require "json"
require "cyme"

# What Ruby itself gives every object, exception, generated model and
# Enumerable (ClusterList), which says nothing about the SDK.
INHERITED = [Object, Exception, Cyme::Models::Base, Enumerable].flat_map(&:public_instance_methods).uniq.freeze
CLASSES = {
  "Client" => Cyme::Client,
  "Cluster" => Cyme::Cluster,
  "Branch" => Cyme::Branch,
  "Placement" => Cyme::Placement,
  "ClusterList" => Cyme::ClusterList,
  "ClusterChange" => Cyme::ClusterChange,
  "App" => Cyme::App,
  "Instance" => Cyme::Instance,
  "Apps" => Cyme::Resources::Apps,
  "Instances" => Cyme::Resources::Instances,
  "Queues" => Cyme::Resources::Queues,
  "Consumers" => Cyme::Resources::Consumers,
  "Scheduled" => Cyme::Scheduled,
  "Tasks" => Cyme::Resources::Tasks,
  "Task" => Cyme::Task,
  "RawResponse" => Cyme::RawResponse,
  "APIError" => Cyme::APIError,
  "APIConnectionError" => Cyme::APIConnectionError,
  "APIStatusError" => Cyme::APIStatusError,
  "TaskError" => Cyme::TaskError
}.freeze

# Parameter names by kind: positional and keyword names alike, `*`/`**` for
# the rest, `&` for a block.
def parameters(method)
  method.parameters.map do |kind, name|
    case kind
    when :rest then "*"
    when :keyrest then "**"
    when :block then "&"
    else name.to_s
    end
  end
end

# Names of Object's that the SDK takes for an API name on purpose: Tasks#send
# (as Python's; Object#send stays reachable as __send__ and public_send).
OVERRIDDEN = %i[send].freeze

def members(klass)
  own = (klass.public_instance_methods - INHERITED) | (klass.public_instance_methods(false) & OVERRIDDEN)
  own.sort.to_h { |name| [name.to_s, parameters(klass.instance_method(name))] }
end

errors = Cyme.constants.map { |name| Cyme.const_get(name) }
             .select { |value| value.is_a?(Class) && value <= Cyme::APIError }
constants = Cyme.constants.grep(/\A[A-Z][A-Z0-9_]+\z/).to_h do |name|
  value = Cyme.const_get(name)
  [name.to_s, value.is_a?(Hash) ? "table" : value]
end

classes = CLASSES.transform_values { |klass| members(klass) }
# The client's options, as the member "new": Client.new's parameters.
classes["Client"]["new"] = parameters(Cyme::Client.instance_method(:initialize))

puts JSON.generate(
  classes:,
  errors: errors.to_h { |klass| [klass.name.delete_prefix("Cyme::"), klass.superclass.name.delete_prefix("Cyme::")] },
  constants:
)
