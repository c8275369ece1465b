# frozen_string_literal: true

require "json"

module Cyme
  # Plain value classes for the schemas of openapi.yaml. The classes are
  # generated (models/generated.rb, by bin/generate-models); this is their
  # hand-written base.
  module Models
    # A schema's value: the JSON object as the branch sent it, with a reader
    # per property. It keeps every key it was given, known or not, so nothing
    # a newer branch sends is lost; `[]` reads any of them by name.
    #
    # A model equals another of its class with the same fields, and a Hash
    # with the same keys (Symbol or String) and values:
    #   autoscale == {max: 10, min: 4}  # => true
    class Base
      # Property names of the schema, in the order of openapi.yaml.
      FIELDS = [].freeze
      # The properties a value always has.
      REQUIRED = [].freeze

      # Builds a model from a parsed JSON object (String or Symbol keys).
      #
      # @param hash [Hash]
      # @return [Base]
      def self.from_h(hash)
        model = allocate
        model.__send__(:load_attributes, hash)
        model
      end

      # @param attributes [Hash{String => Object}] values by property name;
      #   nil optional properties are left out
      def initialize(attributes = {})
        required = self.class::REQUIRED
        load_attributes(attributes.reject { |key, value| value.nil? && !required.include?(key.to_s) })
      end

      # @param key [String, Symbol] a property name
      # @return [Object, nil] its value, nil when absent
      def [](key)
        @attributes[key.to_s]
      end

      # @param key [String, Symbol]
      # @return [Boolean] whether the value has this property
      def key?(key)
        @attributes.key?(key.to_s)
      end

      # @return [Hash{Symbol => Object}] every property, nested values as parsed from JSON
      def to_h
        @attributes.transform_keys(&:to_sym)
      end
      # Lets a Hash compare equal to a model too: `{max: 10, min: 4} == autoscale`.
      alias to_hash to_h

      # @return [String] the value as JSON
      def to_json(*args)
        @attributes.to_json(*args)
      end

      # @param other [Object]
      # @return [Boolean]
      def ==(other)
        case other
        when Base then other.class == self.class && other.attributes == @attributes
        when Hash then other.transform_keys(&:to_s) == @attributes
        else false
        end
      end
      alias eql? ==

      # @return [Integer]
      def hash
        [self.class, @attributes].hash
      end

      # @return [String]
      def inspect
        fields = @attributes.map { |key, value| "#{key}=#{value.inspect}" }
        "#<#{self.class.name} #{fields.join(' ')}>"
      end
      alias to_s inspect

      protected

      # @return [Hash{String => Object}] the attributes, String keys
      attr_reader :attributes

      private

      def load_attributes(hash)
        @attributes = hash.to_h.transform_keys(&:to_s).freeze
      end
    end
  end
end
