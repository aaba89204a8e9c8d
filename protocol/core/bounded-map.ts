/**
 * A memo that cannot grow without bound: a Map that forgets everything when it reaches `max`
 * entries and a new key comes. Used for deterministic, public results worth reusing (validated
 * points, group commitments, accepted signatures); a clear only costs recomputation.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  private readonly max: number;

  constructor(max: number) {
    super();
    this.max = max;
  }

  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) this.clear();
    return super.set(key, value);
  }
}
