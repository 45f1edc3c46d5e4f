public enum _PlaceholderCouponRankWire {}
