/**
 * Profiles, presence and people search (`client.profiles`): your display name, about line and
 * photo; other people's as you may see them; who is online; finding people by handle or name.
 */
import type { Presence, Profile, UpdateProfileBody } from '@mmd/contracts';

type Request = <T>(method: string, path: string, body?: unknown) => Promise<T>;
type Raw = (path: string, init: RequestInit) => Promise<Response>;
const enc = encodeURIComponent;

export class ProfilesApi {
  constructor(
    private readonly request: Request,
    private readonly raw: Raw,
  ) {}

  /** Your own profile. */
  mine(): Promise<Profile> {
    return this.request<Profile>('GET', '/v1/profile');
  }

  /** Changes your display name and/or about line; `null` or `""` clears one, a field left out is kept. */
  update(input: UpdateProfileBody): Promise<Profile> {
    return this.request<Profile>('PATCH', '/v1/profile', input);
  }

  /** Sets your profile photo from the image's bytes (JPEG, PNG, WebP, …); answers with your profile. */
  async setPhoto(image: Uint8Array | Blob, contentType = 'application/octet-stream'): Promise<Profile> {
    const response = await this.raw('/v1/profile/photo', { method: 'PUT', headers: { 'content-type': contentType }, body: image as BodyInit });
    return (await response.json()) as Profile;
  }

  /** Removes your profile photo. */
  removePhoto(): Promise<void> {
    return this.request<void>('DELETE', '/v1/profile/photo');
  }

  /** Profiles of up to 100 accounts by id (unknown ids are left out). */
  async byIds(ids: readonly string[]): Promise<Profile[]> {
    return (await this.request<{ profiles: Profile[] }>('GET', `/v1/profiles?ids=${enc(ids.join(','))}`)).profiles;
  }

  /** Someone's profile by handle. */
  byHandle(handle: string): Promise<Profile> {
    return this.request<Profile>('GET', `/v1/people/${enc(handle.replace(/^@/, ''))}`);
  }

  /** People whose handle or a word of whose name starts with `q` (3+ characters; at most 10). */
  async search(q: string, limit?: number): Promise<Profile[]> {
    const query = `q=${enc(q)}${limit ? `&limit=${limit}` : ''}`;
    return (await this.request<{ profiles: Profile[] }>('GET', `/v1/people?${query}`)).profiles;
  }

  /** Whether these people (up to 100) are online, or when they last were, as far as privacy allows. */
  async presence(ids: readonly string[]): Promise<Presence[]> {
    return (await this.request<{ presence: Presence[] }>('GET', `/v1/presence?ids=${enc(ids.join(','))}`)).presence;
  }
}
