# frozen_string_literal: true

module Cyme
  # Every operationId of openapi.yaml, and its Route: its method, path and
  # parameters, and the SDK method that performs it (`sdk_method`, such as
  # "Resources::Apps#get", from the spec's x-sdk-method): the generated
  # route table itself, as `cyme.OPERATIONS` is in the Python SDK. The POST
  # forms of create-or-update operations (postApp, postAutoscale,
  # postConsumer, postQueue) name the method of their PUT twins, which the
  # SDK sends; Client#call sends either.
  OPERATIONS = ROUTES
end
