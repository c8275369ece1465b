# frozen_string_literal: true

require_relative "lib/cyme/version"

Gem::Specification.new do |spec|
  spec.name = "cyme"
  spec.version = Cyme::VERSION
  spec.summary = "Client of the Cyme branch API: Celery instances, autoscale, queues"
  spec.description = "Ruby SDK of the Cyme branch API (openapi.yaml), on Net::HTTP with no dependencies."
  spec.authors = ["Cyme contributors"]
  spec.license = "BSD-3-Clause"
  spec.homepage = "https://github.com/celery/cyme"
  spec.required_ruby_version = ">= 3.1"
  spec.files = Dir["lib/**/*.rb", "sig/**/*.rbs", "README.md"]
  spec.require_paths = ["lib"]
  spec.metadata["rubygems_mfa_required"] = "true"
  # No runtime dependencies: the standard library only.
end
