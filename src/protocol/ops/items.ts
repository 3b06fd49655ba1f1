import { Type } from '@sinclair/typebox';
import { SafeInt } from '../schemas.js';

export const VehicleId = SafeInt({ minimum: 1, description: 'vehicle id (the item catalog\'s)' });
export const CouponId = SafeInt({ minimum: 1, description: 'coupon id (the item catalog\'s)' });

/** A vehicle (座驾) as clients show it: its entrance animation plays when its owner enters a room. */
export const VehicleView = Type.Object({
  vehicleId: VehicleId,
  name: Type.String(),
  image: Type.String({ description: 'picture URL' }),
  animation: Type.String({ description: "entrance animation URL ('' when none)" }),
});
export const CouponView = Type.Object({ couponId: CouponId, name: Type.String(), image: Type.String({ description: 'picture URL' }) });
