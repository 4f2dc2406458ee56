// three.js r108 from its ES module sources: the release esbuild's
// published benchmark bundles ten copies of. Its code predates classes
// (prototype assignment, `for (var i …)` at module top level).
import * as THREE from 'three-r108/src/Three.js';

const f = (n) => n.toFixed(6);
const v = new THREE.Vector3(1, 2, 3);
console.log('REVISION', THREE.REVISION, 'exports', Object.keys(THREE).length);
console.log('length', f(v.length()), 'normalized', f(v.clone().normalize().x));
const m = new THREE.Matrix4().makeRotationX(1).multiply(new THREE.Matrix4().makeScale(2, 3, 4));
console.log('determinant', f(m.determinant()));
const q = new THREE.Quaternion().setFromEuler(new THREE.Euler(0.1, 0.2, 0.3));
console.log('quaternion', f(q.x), f(q.y), f(q.z), f(q.w));
console.log('uuid length', THREE.Math.generateUUID().length);
const box = new THREE.Box3().setFromPoints([v, new THREE.Vector3(-1, 0, 5)]);
console.log('box', f(box.min.x), f(box.max.z));
const color = new THREE.Color('#336699');
console.log('color', color.getHexString(), f(color.r));
