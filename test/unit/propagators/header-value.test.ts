import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstHeaderValue } from '../../../src/propagators/header-value.ts';

const cases: { name: string; value: unknown; expected: string | undefined }[] = [
  { name: 'a string is the value', value: 'a', expected: 'a' },
  { name: 'an empty string is still a value', value: '', expected: '' },
  { name: 'the first of repeated headers', value: ['a', 'b'], expected: 'a' },
  { name: 'an empty array is absent', value: [], expected: undefined },
  { name: 'an array starting with a non-string is absent', value: [1, 'a'], expected: undefined },
  { name: 'undefined is absent', value: undefined, expected: undefined },
  { name: 'a number is absent', value: 42, expected: undefined },
  { name: 'an object is absent', value: { toString: () => 'a' }, expected: undefined },
];

for (const { name, value, expected } of cases) {
  test(name, () => {
    assert.equal(firstHeaderValue(value), expected);
  });
}
