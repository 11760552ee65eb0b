// What New Config writes for a video: the suggested name and the recorded path.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { isValidConfigName, suggestedConfigName, videoValueFor } from '../../../src/host/configs/newConfig';

test('a config name from a video file name', () => {
  assert.equal(suggestedConfigName('/v/Venice tour (4K).mp4'), 'Venice-tour-4K-');
  assert.ok(isValidConfigName('venice_2.small'));
  assert.ok(!isValidConfigName('venice tour'));
  assert.ok(!isValidConfigName('../venice'));
});

test('a video in the config’s workspace folder is recorded relative to the config, one elsewhere absolute', () => {
  const root = path.join('/w', 'project');
  const config = path.join(root, 'venice.dora.json');
  assert.equal(videoValueFor(config, path.join(root, 'media', 'venice.mp4'), [root]), path.join('media', 'venice.mp4'));
  assert.equal(videoValueFor(config, '/data/venice.mp4', [root]), '/data/venice.mp4');
  assert.equal(videoValueFor('/elsewhere/v.dora.json', path.join(root, 'v.mp4'), [root]), path.join(root, 'v.mp4'));
});
