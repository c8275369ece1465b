# frozen_string_literal: true

module Cyme
  # Every operationId of openapi.yaml, and the SDK method that performs it
  # ("Resources::Apps#get"), from the route table (the spec's x-sdk-method).
  # The POST forms of create-or-update operations (postApp, postAutoscale,
  # postConsumer, postQueue) name the method of their PUT twins, which the
  # SDK sends; Client#call sends either.
  OPERATIONS = ROUTES.transform_values(&:sdk_method).freeze
end
