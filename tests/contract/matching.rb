# frozen_string_literal: true

module Contract
  # How `expect` matches a result: the Ruby twin of matching.py.
  # matchers.yaml holds the cases both must decide alike.
  module Matching
    TYPES = %w[string integer number boolean object array null].freeze

    module_function

    def json_type(value)
      case value
      when nil then "null"
      when true, false then "boolean"
      when Integer then "integer"
      when Float then value.finite? && value == value.floor ? "integer" : "number"
      when String then "string"
      when Array then "array"
      when Hash then "object"
      else raise ScenarioError, "not JSON data: #{value.class}"
      end
    end

    def number?(value) = value.is_a?(Integer) || value.is_a?(Float)

    # JSON equality: numbers by value, booleans apart from numbers, keys as sets.
    def same?(left, right)
      return left == right if number?(left) && number?(right)
      return same_list?(left, right) if left.is_a?(Array)
      return same_object?(left, right) if left.is_a?(Hash)

      left.instance_of?(right.class) && left == right
    end

    def same_list?(left, right)
      right.is_a?(Array) && left.length == right.length && left.zip(right).all? { |a, b| same?(a, b) }
    end

    def same_object?(left, right)
      right.is_a?(Hash) && left.keys.sort == right.keys.sort && left.all? { |key, item| same?(item, right[key]) }
    end

    # [name, argument] when `expected` is a matcher: a one-key Hash whose key starts with $.
    def matcher(expected)
      return nil unless expected.is_a?(Hash) && expected.keys.any? { |key| key.to_s.start_with?("$") }
      raise ScenarioError, "a matcher is a mapping of one $key: #{expected.inspect}" unless expected.length == 1

      expected.first.then { |name, argument| [name.to_s, argument] }
    end

    # How `actual` fails to match `expected`; empty when it matches.
    def mismatches(expected, actual, where = "")
      at = where.empty? ? "the result" : where
      return [] if expected == "$any"

      found = matcher(expected)
      return match_matcher(*found, actual, at, where) if found

      case expected
      when Hash then match_object(expected, actual, at, where)
      when Array then match_list(expected, actual, at, where)
      else same?(expected, actual) ? [] : ["#{at}: expected #{expected.inspect}, got #{actual.inspect}"]
      end
    end

    def match_object(expected, actual, at, where)
      return ["#{at}: expected an object, got #{actual.inspect}"] unless actual.is_a?(Hash)

      expected.flat_map do |key, value|
        next ["#{at}: no key #{key.inspect} in #{actual.keys.sort}"] unless actual.key?(key)

        mismatches(value, actual[key], "#{where}.#{key}")
      end
    end

    def match_list(expected, actual, at, where)
      unless actual.is_a?(Array) && actual.length == expected.length
        return ["#{at}: expected #{expected.length} items #{expected.inspect}, got #{actual.inspect}"]
      end

      expected.each_with_index.flat_map { |want, index| mismatches(want, actual[index], "#{where}[#{index}]") }
    end

    def match_matcher(name, argument, actual, at, where)
      case name
      when "$eq" then match_exactly(argument, actual, at)
      when "$len" then match_length(argument, actual, at, where)
      when "$type" then match_type(argument, actual, at)
      when "$contains", "$not_contains" then match_contains(name, argument, actual, at)
      when "$unordered" then match_unordered(argument, actual, at)
      when "$gte", "$lte" then match_bound(name, argument, actual, at)
      when "$regex" then match_regex(argument, actual, at)
      when "$all" then match_all(argument, actual, where)
      else raise ScenarioError, "unknown matcher #{name}"
      end
    end

    def match_exactly(argument, actual, at)
      same?(argument, actual) ? [] : ["#{at}: expected exactly #{argument.inspect}, got #{actual.inspect}"]
    end

    def match_length(argument, actual, at, where)
      unless [String, Array, Hash].any? { |kind| actual.is_a?(kind) }
        return ["#{at}: expected something with a length, got #{actual.inspect}"]
      end

      mismatches(argument, actual.length, "#{where} (length)")
    end

    def match_type(argument, actual, at)
      unless TYPES.include?(argument)
        raise ScenarioError, "$type takes one of #{TYPES.join(', ')}, not #{argument.inspect}"
      end

      kind = json_type(actual)
      return [] if kind == argument || (argument == "number" && kind == "integer")

      ["#{at}: expected a #{argument}, got #{actual.inspect}"]
    end

    def match_contains(name, argument, actual, at)
      unless actual.is_a?(Array) || actual.is_a?(String)
        return ["#{at}: expected a list or a string, got #{actual.inspect}"]
      end

      has = contains?(argument, actual, at)
      if name == "$contains"
        has ? [] : ["#{at}: expected it to contain #{argument.inspect}, got #{actual.inspect}"]
      else
        has ? ["#{at}: expected it not to contain #{argument.inspect}, got #{actual.inspect}"] : []
      end
    end

    def contains?(argument, actual, at)
      return actual.any? { |item| mismatches(argument, item).empty? } if actual.is_a?(Array)
      raise ScenarioError, "#{at}: text can only contain text, not #{argument.inspect}" unless argument.is_a?(String)

      actual.include?(argument)
    end

    def match_unordered(argument, actual, at)
      raise ScenarioError, "$unordered takes a list, not #{argument.inspect}" unless argument.is_a?(Array)
      unless actual.is_a?(Array) && actual.length == argument.length
        return ["#{at}: expected #{argument.length} items in any order #{argument.inspect}, got #{actual.inspect}"]
      end

      left = actual.dup
      argument.each do |want|
        index = left.index { |item| mismatches(want, item).empty? }
        return ["#{at}: nothing matches #{want.inspect} among #{left.inspect}"] if index.nil?

        left.delete_at(index)
      end
      []
    end

    def match_bound(name, argument, actual, at)
      raise ScenarioError, "#{name} takes a number, not #{argument.inspect}" unless number?(argument)
      return ["#{at}: expected a number, got #{actual.inspect}"] unless number?(actual)

      ok = name == "$gte" ? actual >= argument : actual <= argument
      ok ? [] : ["#{at}: expected #{name[1..]} #{argument.inspect}, got #{actual.inspect}"]
    end

    def match_regex(argument, actual, at)
      raise ScenarioError, "$regex takes a string, not #{argument.inspect}" unless argument.is_a?(String)

      return [] if actual.is_a?(String) && Regexp.new(argument).match?(actual)

      ["#{at}: expected text matching /#{argument}/, got #{actual.inspect}"]
    end

    def match_all(argument, actual, where)
      raise ScenarioError, "$all takes a list of matchers, not #{argument.inspect}" unless argument.is_a?(Array)

      argument.flat_map { |each| mismatches(each, actual, where) }
    end
  end
end
