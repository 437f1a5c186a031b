/** Which asset paths name remote files, and the URL each names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRemotePath, remoteUrl } from '../../src/io/remote-path.ts';
import { isManifestPath, inputsManifestPath } from '../../src/predict/load-source.ts';

test('URLs and GDAL /vsicurl/ paths are remote; local paths are not', () => {
  for (const p of ['https://h/a.tif', 'http://127.0.0.1:8080/a.tif', 'HTTPS://h/a.tif', '/vsicurl/https://h/a.tif', '/vsicurl/http://h:1/x/y.tif']) {
    assert.equal(isRemotePath(p), true, p);
  }
  for (const p of ['a.tif', '/data/a.tif', './http://x', '/data/http://x.tif', 'ftp://h/a.tif', '/vsicurl/a.tif', '/vsis3/b/k.tif', 'httpx://h', '', 3, null]) {
    assert.equal(isRemotePath(p), false, String(p));
  }
  assert.equal(remoteUrl('/vsicurl/https://h/a%20b.tif?x=1'), 'https://h/a%20b.tif?x=1');
  assert.equal(remoteUrl('https://h/a.tif'), 'https://h/a.tif');
});

test('predict --src: manifests by extension; the made manifest goes beside the output', () => {
  for (const p of ['a.kwcoco.json', 'a.json', 'x/a.kwcoco.zip', 'A.JSON']) assert.equal(isManifestPath(p), true, p);
  for (const p of ['scenes/*.tif', 'a.png', 'https://h/a.jpg', 'a.json.tif']) assert.equal(isManifestPath(p), false, p);
  assert.equal(inputsManifestPath('/o/pred.kwcoco.json'), '/o/pred-inputs.kwcoco.json');
  assert.equal(inputsManifestPath('/o/pred.kwcoco.zip'), '/o/pred-inputs.kwcoco.json');
  assert.equal(inputsManifestPath('/o/out.json'), '/o/out-inputs.kwcoco.json');
});
