// rxjs bundled from its TypeScript sources (the npm tarball ships src/).
// Every pipeline below is synchronous.
import {
  BehaviorSubject,
  catchError,
  combineLatest,
  concatMap,
  defer,
  distinctUntilChanged,
  EMPTY,
  filter,
  from,
  map,
  mergeMap,
  of,
  pairwise,
  range,
  reduce,
  scan,
  startWith,
  Subject,
  take,
  throwError,
  toArray,
  zip,
} from '../node_modules/rxjs/src/index.ts';

const log = (label) => (v) => console.log(label, JSON.stringify(v));

of(1, 2, 3, 4, 5, 6)
  .pipe(
    filter((n) => n % 2 === 0),
    map((n) => n * 10),
    scan((acc, n) => acc + n, 0),
    toArray(),
  )
  .subscribe(log('of/filter/map/scan/toArray'));

range(1, 10).pipe(reduce((a, b) => a * b, 1)).subscribe(log('range/reduce'));
from([3, 3, 1, 1, 2, 3]).pipe(distinctUntilChanged(), pairwise(), toArray()).subscribe(log('distinct/pairwise'));
of('a', 'b')
  .pipe(
    mergeMap((x) => of(x + 1, x + 2)),
    concatMap((x) => of(x.toUpperCase())),
    startWith('start'),
    toArray(),
  )
  .subscribe(log('mergeMap/concatMap/startWith'));

const events = [];
const subject = new Subject();
const sub = subject.pipe(map((x) => x * 2), take(2)).subscribe({
  next: (v) => events.push(`next ${v}`),
  complete: () => events.push('complete'),
});
subject.next(1);
subject.next(2);
subject.next(3);
console.log('subject/take', events.join(', '), 'closed', sub.closed);

const bs = new BehaviorSubject('init');
const seen = [];
bs.subscribe((v) => seen.push(v));
bs.next('next');
console.log('behaviorSubject', seen.join(','), bs.getValue());

combineLatest([of(1, 2), of('x')]).subscribe(log('combineLatest'));
zip(of(1, 2, 3), of('a', 'b')).pipe(toArray()).subscribe(log('zip'));

throwError(() => new TypeError('bad'))
  .pipe(catchError((e) => of(`caught ${e.constructor.name}: ${e.message}`)))
  .subscribe(log('throwError/catchError'));

let errName = null;
defer(() => {
  throw new RangeError('from defer');
}).subscribe({ error: (e) => (errName = e.constructor.name) });
console.log('defer error', errName);

const done = [];
EMPTY.subscribe({ next: () => done.push('next'), complete: () => done.push('complete') });
console.log('EMPTY', done.join(','));
