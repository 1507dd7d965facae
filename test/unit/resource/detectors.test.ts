import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectResourceAttributes } from '../../../src/resource/detectors.ts';

describe('resource detectors use environment hints only', () => {
  it('Cloud Run: cloud.* and faas.* from K_SERVICE, K_REVISION, K_CONFIGURATION', () => {
    const attributes = detectResourceAttributes(['gcp'], { K_SERVICE: 'polls', K_REVISION: 'polls-00042-abc', K_CONFIGURATION: 'polls', GOOGLE_CLOUD_PROJECT: 'acme-prod' });
    assert.deepEqual(attributes, {
      'cloud.provider': 'gcp',
      'cloud.account.id': 'acme-prod',
      'cloud.platform': 'gcp_cloud_run',
      'faas.name': 'polls',
      'faas.version': 'polls-00042-abc',
      'gcp.cloud_run.configuration': 'polls',
    });
  });

  it('Cloud Run jobs', () => {
    const attributes = detectResourceAttributes(['gcp'], { CLOUD_RUN_JOB: 'nightly', CLOUD_RUN_EXECUTION: 'nightly-x1', CLOUD_RUN_TASK_INDEX: '3' });
    assert.equal(attributes['cloud.platform'], 'gcp_cloud_run');
    assert.equal(attributes['faas.name'], 'nightly');
    assert.equal(attributes['gcp.cloud_run.job.task_index'], 3);
  });

  it('no hints, no cloud attributes (and no network call to find out)', () => {
    assert.deepEqual(detectResourceAttributes(['gcp', 'aws', 'azure'], {}), {});
  });

  it('AWS Lambda from its variables', () => {
    assert.equal(detectResourceAttributes(['aws'], { AWS_LAMBDA_FUNCTION_NAME: 'f', AWS_REGION: 'eu-west-1' })['cloud.region'], 'eu-west-1');
  });

  it('host, os, process and service instance', () => {
    const attributes = detectResourceAttributes(['host', 'os', 'process', 'serviceinstance'], {});
    assert.equal(typeof attributes['host.name'], 'string');
    assert.equal(attributes['process.pid'], process.pid);
    assert.equal(attributes['process.runtime.name'], 'nodejs');
    assert.match(String(attributes['service.instance.id']), /^[0-9a-f-]{36}$/);
  });
});
