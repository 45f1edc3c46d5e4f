public enum _PlaceholderCouponRankClient {}
