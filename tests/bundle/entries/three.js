// three.js: pure math, no WebGL. Deterministic numbers, printed with toFixed.
import {
  Box3,
  Color,
  Euler,
  MathUtils,
  Matrix3,
  Matrix4,
  Plane,
  Quaternion,
  Ray,
  REVISION,
  Sphere,
  Spherical,
  Vector2,
  Vector3,
} from 'three';

const f = (n) => n.toFixed(6);
const v3 = (v) => `(${f(v.x)}, ${f(v.y)}, ${f(v.z)})`;
const q4 = (q) => `(${f(q.x)}, ${f(q.y)}, ${f(q.z)}, ${f(q.w)})`;
const m = (mat) => mat.elements.map(f).join(' ');

console.log('REVISION', REVISION);

const a = new Vector3(1, 2, 3);
const b = new Vector3(-4, 0.5, 2);
console.log('add', v3(a.clone().add(b)));
console.log('cross', v3(a.clone().cross(b)));
console.log('dot', f(a.dot(b)));
console.log('length', f(a.length()), 'normalized', v3(a.clone().normalize()));
console.log('angleTo', f(a.angleTo(b)));
console.log('lerp', v3(a.clone().lerp(b, 0.25)));

const q = new Quaternion().setFromAxisAngle(new Vector3(0, 1, 0), Math.PI / 3);
const q2 = new Quaternion().setFromEuler(new Euler(0.1, 0.2, 0.3, 'XYZ'));
console.log('quaternion', q4(q));
console.log('quaternion from euler', q4(q2));
console.log('slerp', q4(q.clone().slerp(q2, 0.5)));
console.log('rotate vector', v3(a.clone().applyQuaternion(q)));
console.log('euler back', (() => { const e = new Euler().setFromQuaternion(q2); return `${f(e.x)} ${f(e.y)} ${f(e.z)} ${e.order}`; })());

const mat = new Matrix4().compose(new Vector3(1, -2, 3), q, new Vector3(2, 2, 0.5));
console.log('compose', m(mat));
console.log('determinant', f(mat.determinant()));
console.log('invert', m(mat.clone().invert()));
const pos = new Vector3();
const rot = new Quaternion();
const scl = new Vector3();
mat.decompose(pos, rot, scl);
console.log('decompose', v3(pos), q4(rot), v3(scl));
console.log('lookAt', m(new Matrix4().lookAt(new Vector3(0, 0, 5), new Vector3(0, 0, 0), new Vector3(0, 1, 0))));
console.log('perspective', m(new Matrix4().makePerspective(-1, 1, 1, -1, 0.1, 100)));
console.log('normal matrix', new Matrix3().getNormalMatrix(mat).elements.map(f).join(' '));

const box = new Box3().setFromPoints([a, b, new Vector3(0, -1, 7)]);
console.log('box', v3(box.min), v3(box.max), 'center', v3(box.getCenter(new Vector3())));
const sphere = box.getBoundingSphere(new Sphere());
console.log('sphere', v3(sphere.center), f(sphere.radius));
const ray = new Ray(new Vector3(0, 0, -10), new Vector3(0, 0, 1));
console.log('ray hits sphere', ray.intersectsSphere(sphere), v3(ray.intersectSphere(sphere, new Vector3())));
const plane = new Plane().setFromNormalAndCoplanarPoint(new Vector3(0, 1, 0), new Vector3(0, 2, 0));
console.log('plane distance', f(plane.distanceToPoint(a)));
const sph = new Spherical().setFromVector3(a);
console.log('spherical', f(sph.radius), f(sph.phi), f(sph.theta));
console.log('vector2 rotate', (() => { const p = new Vector2(1, 0).rotateAround(new Vector2(0, 0), Math.PI / 2); return `${f(p.x)} ${f(p.y)}`; })());

console.log('clamp', MathUtils.clamp(15, 0, 10), 'degToRad', f(MathUtils.degToRad(90)), 'smoothstep', f(MathUtils.smoothstep(0.3, 0, 1)));
console.log('color', new Color('#ff8800').getHexString(), new Color(0.2, 0.4, 0.6).getStyle());
console.log('hsl', (() => { const hsl = new Color('rebeccapurple').getHSL({}); return `${f(hsl.h)} ${f(hsl.s)} ${f(hsl.l)}`; })());
