/**
 * Typed access to the tags of one IFD as geotiff.js parsed it, by the tag
 * numbers of ../tiff-tags.ts: a missing required tag is a FormatError that
 * names the file, the IFD and the tag.
 */
import { FormatError } from '../errors.ts';
import { Tag } from '../tiff-tags.ts';
import type { GeoKeys } from './geo.ts';

/** The fields of a geotiff.js ImageFileDirectory this reader uses. */
export interface GeotiffIfd {
  hasTag(tag: number): boolean;
  loadValue(tag: number): Promise<unknown>;
  parseGeoKeyDirectory(): GeoKeys;
}

/** One IFD's tags. */
export class IfdTags {
  constructor(readonly ifd: GeotiffIfd, readonly path: string, readonly index: number) {}

  has(tag: Tag): boolean {
    return this.ifd.hasTag(tag);
  }

  /** The value as geotiff.js decodes it (number, typed array, string), or undefined when absent. */
  async value(tag: Tag): Promise<unknown> {
    const v = await this.ifd.loadValue(tag);
    return v === null ? undefined : v;
  }

  /** The first value as a number; `dflt` when absent (without one, absent is a FormatError). */
  async number(tag: Tag, dflt?: number): Promise<number> {
    const v = await this.value(tag);
    if (v === undefined) {
      if (dflt === undefined) throw new FormatError(`${this.path}: IFD ${this.index} has no ${Tag[tag]} tag`, this.path);
      return dflt;
    }
    return Number(typeof v === 'object' ? (v as ArrayLike<number>)[0] : v);
  }

  /** Every value as numbers; `dflt` when absent. */
  async numbers(tag: Tag, dflt: number[]): Promise<number[]> {
    const v = await this.value(tag);
    if (v === undefined) return dflt;
    return typeof v === 'number' || typeof v === 'bigint' ? [Number(v)] : Array.from(v as ArrayLike<number>, Number);
  }
}
